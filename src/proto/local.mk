# src/proto
