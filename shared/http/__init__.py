"""HTTP kernel: the service app factory, problem+json errors, auth glue, pagination."""
