"""What every app shares: tenancy (merchants, memberships, reviewers) and access, the
audit trail, the task base and the sweeper."""
