"""Deployed state across machines: the store backends, each domain's record in them, the leases that guard a
domain's deploy, and pulling and pushing records between a store and the working state folder."""
