void tool_lib(void) {}
