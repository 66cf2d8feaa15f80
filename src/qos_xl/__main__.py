from qos_xl.cli import main

main()
