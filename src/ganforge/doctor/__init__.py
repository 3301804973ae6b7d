"""The doctor: reads a run's logs, settings and samples and names what went wrong, in plain words, with the
fix to try and its config key. ``examine(run)`` for a finished run (``ganforge doctor RUN``),
``DoctorWarnings`` for the same loss-curve checks as warnings while training."""

from ganforge.doctor.callback import DoctorWarnings
from ganforge.doctor.diagnosis import Diagnosis, rank
from ganforge.doctor.examine import examine
from ganforge.doctor.report import Report

__all__ = ["Diagnosis", "DoctorWarnings", "Report", "examine", "rank"]
