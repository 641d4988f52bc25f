# integration tests (pytest)
