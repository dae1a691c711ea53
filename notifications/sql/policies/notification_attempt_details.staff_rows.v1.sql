-- The receivers' answers to failed attempts: staff and service contexts alone (a vendor reads its
-- attempts' fixed reasons in notification_delivery_attempts, never what the receiver said).
SELECT apply_staff_only_rls('notification_attempt_details');
