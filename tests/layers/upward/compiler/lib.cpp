#include "tools/tool.h"  // upward: tools/ is a later layer
