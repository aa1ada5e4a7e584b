#include "compiler/lib.h"  // downward: allowed
