void both(void) {}
