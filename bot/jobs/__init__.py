"""The core's services: the life of a job (queue, pipeline, worker link, resume), the track
library, quota for members and managers, lyrics, spoken questions to the voice assistant, and
who may act on what (no discord imports)."""
