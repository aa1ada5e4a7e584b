# gnuplot accuracy.gp: draws accuracy.png from accuracy.dat
set terminal pngcairo size 1000,650 enhanced font 'DejaVu Sans,11'
set output 'accuracy.png'
set title 'Validation accuracy, mlp on fashion-mnist (mean ± std over 3 seeds)'
set xlabel 'epoch'
set ylabel 'validation accuracy (%)'
set key bottom right
set grid
set xtics 1
set offsets graph 0.04, graph 0.04, graph 0.05, graph 0.02
set autoscale xfix
plot 'accuracy.dat' index 0 using ($1+(-0.06)):2:3 with yerrorlines lw 2 pt 7 ps 0.8 lc rgb '#1b9e77' title 'adam (lr 0.001)', \
     'accuracy.dat' index 1 using ($1+(-0.03)):2:3 with yerrorlines lw 2 pt 7 ps 0.8 lc rgb '#d95f02' title 'rmsprop (lr 0.0003)', \
     'accuracy.dat' index 2 using ($1+(0)):2:3 with yerrorlines lw 2 pt 7 ps 0.8 lc rgb '#7570b3' title 'sgd-momentum (lr 0.01)', \
     'accuracy.dat' index 3 using ($1+(0.03)):2:3 with yerrorlines lw 2 pt 7 ps 0.8 lc rgb '#e7298a' title 'powersign (lr 0.03)', \
     'accuracy.dat' index 4 using ($1+(0.06)):2:3 with yerrorlines lw 2 pt 7 ps 0.8 lc rgb '#66a61e' title 'addsign (lr 0.03)'
