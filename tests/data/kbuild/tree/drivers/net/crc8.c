void crc8(void) {}
