void wild_one(void) {}
