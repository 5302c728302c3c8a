#!/usr/bin/env python3
"""Independent check of the seed known answer with Python's exact fractions.

Scans every b1 (b2 = 0 is optimal in the seed model, docs/model.md 3.2) with the largest
feasible b3 for it, and prints the best split and its exact throughput. Takes about 45 s;
not part of the test suite (tests/solve/presets_bruteforce_test.cpp runs the same scan in
C++ for every preset). Expected output:
8323128 17817 1920606492.4528863 21313938232421875/11097504
"""
from fractions import Fraction as F
M=16*1024**3; Fg=F(157,10)*10**12; Fc=F(157,100)*10**12; BW=16*1024**3; L=F(1,10**6); d=512; r=4; e=4
g=F(2*d*r)/Fg; a=F(e*d)/BW+F(2*d*r)/Fc; beta=F(e*r)/BW
Nmax=M//(e*d); Pmax=(M-e*r*d)//(e*(r+d))
best=None
# b2=0 proven; brute force over all b1 (full range) with best b3
import math
lo=math.ceil(L/g)
for b1 in range(lo, Pmax+1):
    b3=min(math.floor((g*b1-L)/a), Nmax-b1)
    if b3<0: continue
    # also mem_s1: e*b1*d+e*d*r+e*b1*r<=M  (implied)
    t=F(b1+b3, 2*b1)   # ratio up to Fg/(2dr)
    if best is None or t>best[0]: best=(t,b1,b3)
print(best[1],best[2], float(best[0]*Fg/(2*d*r)), best[0]*Fg/(2*d*r))
