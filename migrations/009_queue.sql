-- placeholder, replaced by the queue module
SELECT 1;
