"""Celery tasks of the notification outbox. (The notifications helper implements.)"""
