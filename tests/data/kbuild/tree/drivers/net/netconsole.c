void netconsole(void) {}
