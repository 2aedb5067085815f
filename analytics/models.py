"""Statistics counters and snapshots; always rebuildable from attendance.Scan."""
