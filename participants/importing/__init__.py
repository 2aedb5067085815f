"""Import sub-domain of participants: reading CSV/XLSX files, the resumable import pipeline, its admin pages and tasks."""
