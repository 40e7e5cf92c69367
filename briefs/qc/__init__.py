"""Clip QC: FFmpeg's detectors through PyAV filter graphs, identity and palette against references.

The pipeline's check step calls `qc_clip`; `python manage.py qc_clip` runs it on any file.
"""

from briefs.qc.clip import qc_clip
from briefs.qc.report import ClipReport, QcFinding, UnreadableClip

__all__ = ["ClipReport", "QcFinding", "UnreadableClip", "qc_clip"]
