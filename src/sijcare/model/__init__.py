"""What is recorded (`Case`) and what the engine concludes (`Assessment`)."""

from sijcare.model.assessment import Assessment
from sijcare.model.case import Case
from sijcare.model.loading import CaseError, load_case, parse_case

__all__ = ["Assessment", "Case", "CaseError", "load_case", "parse_case"]
