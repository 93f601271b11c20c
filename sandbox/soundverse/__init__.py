"""The local Soundverse: a strict stand-in for the Soundverse API, for offline runs and tests."""

from sandbox.soundverse.jobs import Job, JobState
from sandbox.soundverse.server import Counters, SoundverseStandIn

__all__ = ["Counters", "Job", "JobState", "SoundverseStandIn"]
