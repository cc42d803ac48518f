# The benchmark of examples/gate/suite.json: a loop whose amount of work is
# read from the file "work" (the demo raises it to show a real slowdown).
i=0; n=$(cat work); while [ $i -lt $n ]; do i=$((i+1)); done
