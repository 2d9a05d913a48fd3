"""Room for the CDS Hooks service (discovery, hooks, feedback, JWT checks): the EHR asks
sijcare at the moment a decision is made and shows the answer as cards."""
