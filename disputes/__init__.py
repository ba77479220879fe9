"""Disputes: claims, their analysis, findings, decisions and the audit trail."""
