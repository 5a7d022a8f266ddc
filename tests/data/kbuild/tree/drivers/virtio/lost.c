void lost(void) {}
