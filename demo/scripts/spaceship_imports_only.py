import os
import re

import numpy as np
import pandas as pd
