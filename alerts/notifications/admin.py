"""Admin of notification channels, deliveries and attempts. (The notifications helper implements.)"""
