# src/log
