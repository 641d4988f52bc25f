# src/main/: entry point, workers, signals.
skua_SOURCES += src/main/skua.c
