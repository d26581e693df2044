"""Foundation: the alarm topic, network, the customer-managed key, shared files, the event bus
and the OMS hand-off queue. Deployed first."""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from ..constructs.alarms import AlarmTopic
from ..constructs.encryption import EncryptionKey
from ..constructs.event_bus import EventBus
from ..constructs.monitoring import StackMonitoring
from ..constructs.network import Network
from ..constructs.oms_handoff import OmsHandoff
from ..constructs.shared_files import SharedFiles
from ._base import CommerceStackBase


class FoundationStack(CommerceStackBase):
    def __init__(self, scope: Construct, id: str, *, alarm_emails: Sequence[str] = (),
                 alarm_https_endpoints: Sequence[str] = (), **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        # First, so every later stack can send its alarms here.
        self.alarm_topic = AlarmTopic(self, "Alarms", profile=self.profile, emails=alarm_emails,
                                      https_endpoints=alarm_https_endpoints)
        self.monitoring = StackMonitoring(self, "Monitoring", profile=self.profile, alarm_topic=self.alarm_topic.topic)
        self.encryption = EncryptionKey(self, "Encryption", profile=self.profile)
        self.network = Network(self, "Network", profile=self.profile, encryption_key=self.encryption.key)
        self.shared_files = SharedFiles(self, "SharedFiles", profile=self.profile, vpc=self.network.vpc,
                                        encryption_key=self.encryption.key)
        self.events = EventBus(self, "Events", profile=self.profile, encryption_key=self.encryption.key)
        self.oms_handoff = OmsHandoff(self, "OmsHandoff", bus=self.events.bus, encryption_key=self.encryption.key,
                                      profile=self.profile)
        self.monitoring.monitor_fifo_queue("OmsHandoff", self.oms_handoff.queue, self.oms_handoff.dead_letter_queue)
        self.monitoring.show_alarms({alarm.node.id: alarm for alarm in self.oms_handoff.alarms})
