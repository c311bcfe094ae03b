"""Execute a Plan against Salesforce: outbox first, adaptive batches, results recorded."""
