"""Room for the SMART App Launch: the EHR opens sijcare in a patient's context, signed in as
the launching user; tokens stay on the server."""
