from piachange.cli import main

main()
