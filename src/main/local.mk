# src/main/: entry point, workers, signals, reload.
skua_SOURCES += src/main/skua.c
libskua_a_SOURCES += \
	src/main/worker.c \
	src/comm/worker.h
man8_MANS = doc/skua.8
EXTRA_DIST += doc/skua.8 doc/internals
