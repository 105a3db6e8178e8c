"""What an operator watches: the Prometheus metrics, the readings they and `experts-panel
status` share, and the conditions that need the operator (the same as the alert rules')."""
