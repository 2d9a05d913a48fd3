"""sijcare: decision support, outcomes and patient education for SI-joint pain clinics."""

__version__ = "0.1.0"
