"""Demo data for the portal (``manage.py seed_demo``): the one app that may seed every feature app's tables.

Kept out of ``wedsync_ops.tenancy`` so that the foundation imports no feature app; it writes through each
app's services like any caller.
"""
