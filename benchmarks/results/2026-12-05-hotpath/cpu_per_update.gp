set terminal pngcairo size 1100,650 noenhanced font ',10'
set output "benchmarks/results/2026-12-05-hotpath/cpu_per_update.png"
set title 'CPU per monitor update: server + client CPU-microseconds (median; server/client)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:*]
set ylabel 'CPU-us per update'
set grid ytics
set key left top
plot "benchmarks/results/2026-12-05-hotpath/cpu_per_update.dat" using 2:xtic(1) title "mon1", '' using 3 title "mon100"
