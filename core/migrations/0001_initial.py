# The tenancy models move here from ``evidence`` with their tables: this migration only
# tells Django's state where they now live; the database is not touched.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('evidence', '0002_reviewer'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Merchant',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.SlugField(unique=True, verbose_name='slug')),
                        ('name', models.CharField(max_length=200, verbose_name='name')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                    ],
                    options={
                        'verbose_name': 'merchant',
                        'verbose_name_plural': 'merchants',
                        'db_table': 'evidence_merchant',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Membership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('owner', 'Owner'), ('agent', 'Agent')], default='agent', max_length=16, verbose_name='role')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL)),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='core.merchant')),
                    ],
                    options={
                        'verbose_name': 'membership',
                        'verbose_name_plural': 'memberships',
                        'db_table': 'evidence_membership',
                        'constraints': [models.UniqueConstraint(fields=('user', 'merchant'), name='membership_user_merchant')],
                    },
                ),
                migrations.CreateModel(
                    name='Reviewer',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('all_merchants', models.BooleanField(default=False, help_text='Leave unticked to limit this reviewer to the merchants listed.', verbose_name='reviews every merchant')),
                        ('is_active', models.BooleanField(default=True, verbose_name='active')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('merchants', models.ManyToManyField(blank=True, related_name='reviewers', to='core.merchant', verbose_name='merchants')),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='reviewer', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'reviewer',
                        'verbose_name_plural': 'reviewers',
                        'db_table': 'evidence_reviewer',
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
