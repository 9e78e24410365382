# The staff event log filters by kind or actor, newest first (apps/metrics); the daily metrics count kinds.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_user_time_zone_canonical'),
        ('core', '0003_job_cancel_estimate_cost'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['kind', '-created_at', '-id'], name='event_kind_recent'),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['actor', '-created_at', '-id'], name='event_actor_recent'),
        ),
    ]
