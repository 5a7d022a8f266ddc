void sock(void) {}
