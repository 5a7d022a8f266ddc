void tool(void) {}
