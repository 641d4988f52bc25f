# fuzz harnesses and corpus replay
