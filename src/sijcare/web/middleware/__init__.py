"""The pure-ASGI layers every request passes: security headers, allowed methods, body limits
and admission (the request limit)."""
