"""Outgoing webhooks: company events POSTed as signed JSON to endpoints admins register."""
