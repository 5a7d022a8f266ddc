void fancy(void) {}
