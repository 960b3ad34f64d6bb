"""The Auto Scaling group's lifecycle actions, as aws-standin.py answers CompleteLifecycleAction and
RecordLifecycleActionHeartbeat (imported by it; run nowhere else).

AWS accepts a completion only while the instance has an action pending for that hook, and answers
anything else with the query API's ValidationError "No active Lifecycle Action found with instance
ID i-..." (seen in the wild: convox/rack#2432, spacelift-io/terraform-aws-spacelift-workerpool-on-ec2#197,
"... with token ..." for a completion by token). Actions become pending as the group moves the
instance (Amazon EC2 Auto Scaling User Guide, "Amazon EC2 Auto Scaling lifecycle hooks" and "Use
lifecycle hooks with a warm pool in Auto Scaling group"):

  launched into the group         Pending:Wait            the launch hook
  launched into the warm pool     Warmed:Pending:Wait     the launch hook
  started out of a Stopped pool   Pending:Wait            the launch hook, again
  a Running pool's one put        Pending:Wait            the launch hook, again
    in service (no boot)
  terminated (scale-in, refresh)  Terminating:Wait        the termination hook, once

A completion (CONTINUE or ABANDON) consumes the action; a heartbeat needs one and keeps it. A reboot
is no transition: an instance booted again into the target its last launch action was for (an
InService host rebooted) has nothing pending.

The harness tells the stand-in what the group did through an events file, one JSON object a line,
read at each lifecycle call:

  {"event": "target", "instance": ID, "target": STATE}   IMDS's target-lifecycle-state is now STATE
  {"event": "boot", "instance": ID, "target": STATE}     the instance booted (launched, started or
                                                        rebooted) while the target was STATE
"""
import json
import threading

LAUNCH_TARGETS = ("InService", "Warmed:Stopped", "Warmed:Running", "Warmed:Hibernated")


def not_found(instance, token):
    """AWS's message for a completion or heartbeat with no action pending."""
    if instance:
        return f"No active Lifecycle Action found with instance ID {instance}"
    return f"No active Lifecycle Action found with token {token}"


class LifecycleActions:
    """The pending actions of every instance the harness booted, from its events (thread-safe)."""

    def __init__(self, events_file, group, launch_hook, terminate_hook=None):
        self.events_file = events_file
        self.group = group
        self.launch_hook = launch_hook
        self.terminate_hook = terminate_hook
        self.offset = 0
        self.lock = threading.Lock()
        # instance id -> {"target": the last target told, "launch": the target of its last launch action,
        # "booted": whether it has booted, "terminating": whether its termination action was made}
        self.instances = {}
        # (instance id, hook) -> the wait state the action holds the instance in
        self.pending = {}

    def _read(self):
        """The events appended since the last read (complete lines only)."""
        try:
            with open(self.events_file, encoding="utf-8") as f:
                f.seek(self.offset)
                text = f.read()
        except OSError:
            return []
        complete = text[: text.rfind("\n") + 1]
        self.offset += len(complete.encode("utf-8"))
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def _instance(self, instance):
        return self.instances.setdefault(
            instance, {"target": None, "launch": None, "booted": False, "terminating": False})

    def _launch(self, instance, state, target):
        self.pending[(instance, self.launch_hook)] = "Warmed:Pending:Wait" if target.startswith("Warmed:") else "Pending:Wait"
        state["launch"] = target

    def _terminate(self, instance, state):
        if self.terminate_hook and not state["terminating"]:
            self.pending[(instance, self.terminate_hook)] = "Terminating:Wait"
            state["terminating"] = True

    def _apply(self, event):
        instance, target = event.get("instance", ""), event.get("target", "")
        state = self._instance(instance)
        previous = state["target"]
        state["target"] = target
        if event.get("event") == "boot":
            state["booted"] = True
            if target in LAUNCH_TARGETS and target != state["launch"]:
                self._launch(instance, state, target)
            elif target == "Terminated":
                self._terminate(instance, state)
        elif event.get("event") == "target" and state["booted"]:
            if target == "Terminated":
                self._terminate(instance, state)
            elif target == "InService" and previous == "Warmed:Running" and state["launch"] == "Warmed:Running":
                # A Running pool's instance is put in service without a stop or a start.
                self._launch(instance, state, target)

    def _sync(self):
        for event in self._read():
            self._apply(event)

    def answer(self, action, params):
        """(None, wait state) when the call is accepted, else (code, message): CompleteLifecycleAction
        consumes the action, RecordLifecycleActionHeartbeat keeps it."""
        instance = params.get("InstanceId", "")
        token = params.get("LifecycleActionToken", "")
        hook = params.get("LifecycleHookName", "")
        if not instance and not token:
            return "ValidationError", "stand-in: neither InstanceId nor LifecycleActionToken given"
        with self.lock:
            self._sync()
            key = (instance, hook)
            if not instance or params.get("AutoScalingGroupName") != self.group or key not in self.pending:
                return "ValidationError", not_found(instance, token)
            wait = self.pending[key]
            if action == "CompleteLifecycleAction":
                del self.pending[key]
            return None, wait
