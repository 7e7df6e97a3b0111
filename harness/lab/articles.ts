// The seed articles (../shared/seeds/) by short name, so labs cite them by file name without retyping it.
export const A000 = '000_c4090bf7a4c28683.txt';
export const A001 = '001_409283d7d09adb0c.txt';
export const A002 = '002_eaddc8cbcbe6c745.txt';
export const A003 = '003_81081321638cfb34.txt';
