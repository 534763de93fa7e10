/** Demo contacts with Spanish and English names, deterministic so a second start finds the same people. */

const FIRST = [
  'María',
  'José',
  'Lucía',
  'Carlos',
  'Sofía',
  'Juan',
  'Valentina',
  'Diego',
  'Camila',
  'Mateo',
  'Ana',
  'Javier',
  'Isabella',
  'Andrés',
  'Martina',
  'Emma',
  'Liam',
  'Olivia',
  'Noah',
  'Grace',
];
const LAST = [
  'González',
  'Rodríguez',
  'Fernández',
  'López',
  'Martínez',
  'Pérez',
  'Gómez',
  'Díaz',
  'Sánchez',
  'Romero',
  'Torres',
  'Ramírez',
  'Flores',
  'Castro',
  'Herrera',
  'Smith',
  'Johnson',
  'Brown',
  'Taylor',
  'Walker',
];

export interface DemoPerson {
  firstName: string;
  lastName: string;
  /** A valid Argentine mobile in E.164, distinct per n. */
  phone: string;
}

/** The n-th person of a scenario's block (each scenario has its own block of phone numbers). */
export function person(n: number, block: number): DemoPerson {
  return {
    firstName: FIRST[n % FIRST.length] as string,
    lastName: LAST[Math.floor(n / FIRST.length) % LAST.length] as string,
    phone: `+54911${40_000_000 + block * 100_000 + n}`,
  };
}
