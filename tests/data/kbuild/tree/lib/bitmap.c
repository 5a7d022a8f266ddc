void bitmap(void) {}
