from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ


def queue_ping() -> bool:
    """True when the job queue's broker answers (the queue table on the ORM broker, Redis otherwise)."""
    if Conf.ORM:
        OrmQ.objects.using(Conf.ORM).exists()
        return True
    return bool(get_broker().ping())
