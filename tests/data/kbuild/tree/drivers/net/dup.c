void dup(void) {}
