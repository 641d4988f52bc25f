# src/main/: entry point, workers, signals, reload.
skua_SOURCES += src/main/skua.c
libskua_a_SOURCES += \
	src/main/worker.c \
	src/comm/worker.h
